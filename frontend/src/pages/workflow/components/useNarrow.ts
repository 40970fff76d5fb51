// Whether the screen is phone-narrow (assessors and applicants use the pages on phones).
import { onBeforeUnmount, ref } from 'vue'

export function useNarrow(query = '(max-width: 600px)') {
  const media = typeof window !== 'undefined' && window.matchMedia ? window.matchMedia(query) : null
  const narrow = ref(media?.matches ?? false)
  const update = (e: MediaQueryListEvent) => (narrow.value = e.matches)
  media?.addEventListener?.('change', update)
  onBeforeUnmount(() => media?.removeEventListener?.('change', update))
  return narrow
}
