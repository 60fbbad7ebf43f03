// SPDX-License-Identifier: Apache-2.0
// The remote search of the pickers (users, customers, receivers): the options of the latest
// search only, whatever order the answers come in.
import { ref } from 'vue'

/**
 * 'fetchOptions(q)' returns (a promise of) the options for the trimmed text 'q'. Returns
 * { options, loading, search(q) }: a failed search shows no options (pickers call the API
 * silently: an empty list is their message).
 */
export function useLatestSearch(fetchOptions) {
  const options = ref([])
  const loading = ref(false)
  let seq = 0
  async function search(q) {
    const mine = ++seq
    loading.value = true
    try {
      const list = await fetchOptions(q ? q.trim() : '')
      if (mine === seq) options.value = list
    } catch {
      if (mine === seq) options.value = []
    } finally {
      if (mine === seq) loading.value = false
    }
  }
  return { options, loading, search }
}
