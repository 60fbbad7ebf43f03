// SPDX-License-Identifier: Apache-2.0
// Calls of the platform itself (not of a business module).
import api from './client'

/** The services whose status the dashboard shows. */
export const SERVICES = ['auth', 'customer', 'transfer', 'care', 'audit']

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
