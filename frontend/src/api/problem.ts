// RFC 9457 problem details as the API sends them, and turning any failure into one shape.

export interface ValidationIssue {
  loc: (string | number)[]
  msg: string
  type: string
}

export interface Problem {
  type?: string
  title?: string
  status: number
  detail?: string | null
  code: string
  errors?: ValidationIssue[]
  /** Seconds from a Retry-After header (429), when present. */
  retryAfter?: number
  /** weak_password: the policy rules the password broke (min_length, char_classes, …). */
  rules?: string[]
}

/** Raised by store actions so pages can show `code` in the current language. */
export class ApiError extends Error {
  readonly problem: Problem
  constructor(problem: Problem) {
    super(problem.detail || problem.title || problem.code)
    this.name = 'ApiError'
    this.problem = problem
  }
  get code(): string {
    return this.problem.code
  }
  get status(): number {
    return this.problem.status
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}

/** Builds a Problem from an openapi-fetch error body and its response. */
export function toProblem(body: unknown, response?: Response): Problem {
  const status = response?.status ?? 0
  const retry = response?.headers.get('Retry-After')
  const retryAfter = retry && /^\d+$/.test(retry) ? Number(retry) : undefined
  if (isRecord(body) && typeof body.code === 'string') {
    return {
      type: typeof body.type === 'string' ? body.type : undefined,
      title: typeof body.title === 'string' ? body.title : undefined,
      status: typeof body.status === 'number' ? body.status : status,
      detail: typeof body.detail === 'string' ? body.detail : undefined,
      code: body.code,
      errors: Array.isArray(body.errors) ? (body.errors as ValidationIssue[]) : undefined,
      retryAfter,
      rules: Array.isArray(body.rules) ? body.rules.filter((r): r is string => typeof r === 'string') : undefined,
    }
  }
  // Not a problem document (a proxy error page, an empty body): name it by status.
  return { status, code: status ? `http_${status}` : 'network_error', retryAfter }
}

/** A thrown fetch failure (offline, server down) as a Problem. */
export function networkProblem(): Problem {
  return { status: 0, code: 'network_error' }
}

export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error
  return new ApiError(networkProblem())
}
