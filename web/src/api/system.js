// SPDX-License-Identifier: Apache-2.0
// Calls of the platform itself (not of a business module).
import api from './client'

/** The services whose status the dashboard shows: the names in shared/services.def, put in at
 * build time (vite.config.js). */
// eslint-disable-next-line no-undef -- a build-time constant (vite define)
export const SERVICES = __CRM_SERVICES__

/**
 * GET /system/<svc>/info of every service, in parallel. Never throws: a service that fails
 * answers {service, down: true, error, requestId} instead of its info.
 */
export async function fetchServicesInfo(signal) {
  return Promise.all(
    SERVICES.map(async (service) => {
      try {
        const info = await api.get(`/system/${service}/info`, undefined, { silent: true, signal })
        if (!info || typeof info !== 'object') throw new Error('empty answer')
        return { ...info, service, down: false }
      } catch (err) {
        if (err?.name === 'AbortError') throw err
        return { service, down: true, error: err.detail || err.title || err.message, requestId: err.requestId || null }
      }
    }),
  )
}
