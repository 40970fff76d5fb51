// Material uploads with progress (XMLHttpRequest: fetch reports no upload progress).
import { CSRF_COOKIE, CSRF_HEADER, readCookie } from '@/api/client'
import { ApiError, networkProblem, toProblem } from '@/api/problem'
import type { Material, MaterialPurpose } from './workflowTypes'

/** What the server accepts (it checks the content, this only spares a pointless upload). */
export const ACCEPTED_EXTENSIONS = ['.pdf', '.docx', '.doc', '.jpg', '.jpeg', '.png'] as const
export const ACCEPT_ATTRIBUTE = ACCEPTED_EXTENSIONS.join(',')

export function acceptedFile(name: string): boolean {
  const lower = name.toLowerCase()
  return ACCEPTED_EXTENSIONS.some((ext) => lower.endsWith(ext))
}

export type XhrFactory = () => XMLHttpRequest

/** POST multipart to /materials; onProgress gets 0–100. Resolves with the stored material. */
export function uploadMaterial(
  applicationId: number,
  file: File,
  purpose: MaterialPurpose,
  onProgress: (percent: number) => void = () => undefined,
  createXhr: XhrFactory = () => new XMLHttpRequest(),
): Promise<Material> {
  return new Promise((resolve, reject) => {
    const xhr = createXhr()
    xhr.open('POST', `/api/v1/applications/${applicationId}/materials`)
    xhr.withCredentials = true
    xhr.setRequestHeader('Accept', 'application/json, application/problem+json')
    const csrf = readCookie(CSRF_COOKIE)
    if (csrf) xhr.setRequestHeader(CSRF_HEADER, csrf)
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(Math.round((event.loaded / event.total) * 100))
    }
    xhr.onerror = () => reject(new ApiError(networkProblem()))
    xhr.onload = () => {
      let body: unknown = null
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null
      } catch {
        body = null
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(100)
        resolve(body as Material)
      } else {
        const response = new Response(null, { status: xhr.status })
        reject(new ApiError(toProblem(body, response)))
      }
    }
    const form = new FormData()
    form.append('purpose', purpose)
    form.append('file', file, file.name)
    xhr.send(form)
  })
}
