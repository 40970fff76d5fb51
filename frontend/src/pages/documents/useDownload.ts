// Downloading a file with the session cookie from a page: busy state, the error in the current
// language (a 404/409 answers problem+json, not a file), the file saved under its own name.
import { ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { toApiError } from '@/api/problem'
import { useProblemMessage } from '@/i18n/problem'
import { fetchFile, saveFile, type DownloadedFile } from '@/stores/documents'

export interface DownloadOptions {
  /** Save the file (default); false only fetches it (tests, previews). */
  save?: boolean
  /** Pop up the error as a message (default); false leaves it to the page via `error`. */
  notify?: boolean
}

export function useDownload() {
  const { t } = useI18n()
  const describe = useProblemMessage()
  const busy = ref(false)
  const error = ref<string | null>(null)

  /** Fetches `url`; resolves with the file, or null after showing why it failed. */
  async function download(url: string, options: DownloadOptions = {}): Promise<DownloadedFile | null> {
    busy.value = true
    error.value = null
    try {
      const file = await fetchFile(url)
      if (options.save !== false) saveFile(file)
      return file
    } catch (err) {
      error.value = describe(toApiError(err).problem)
      if (options.notify !== false) ElMessage.error(t('documents.download.failed', { reason: error.value }))
      return null
    } finally {
      busy.value = false
    }
  }

  return { busy, error, download }
}
