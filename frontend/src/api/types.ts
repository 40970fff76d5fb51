// Names for the API shapes the SPA uses, derived from paths so they follow the spec's changes.
import type { paths } from './schema'

type Json<R> = R extends { content: { 'application/json': infer T } } ? T : never

/** The logged-in user, as GET /api/v1/me returns it. */
export type Me = Json<paths['/api/v1/me']['get']['responses'][200]>
export type Organization = Me['organization']
export type LoginBody = NonNullable<
  paths['/api/v1/auth/login']['post']['requestBody']
>['content']['application/json']
export type LoginResult = Json<paths['/api/v1/auth/login']['post']['responses'][200]>
