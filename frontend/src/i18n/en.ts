// English. Keys must match zh-CN.ts (checked by the type in i18n/index.ts).
import type { Messages } from './index'
import workflow from './workflow.en'
import sites from './sites.en'
import ledger from './ledger.en'
import security from './security.en'
import documents from './documents.en'

const en: Messages = {
  workflow,
  sites,
  ledger,
  security,
  documents,
  app: {
    title: 'Anhui Grassroots Ideological and Political Work Demonstration Sites',
    shortTitle: 'Demonstration Sites Platform',
    skipToContent: 'Skip to main content',
  },
  common: {
    loading: 'Loading…',
    retry: 'Retry',
    empty: 'No data',
    backHome: 'Back to home',
    language: 'Language',
    notProvided: 'Not provided',
  },
  auth: {
    loginTitle: 'Sign in',
    username: 'Username',
    password: 'Password',
    usernamePlaceholder: 'Enter your username',
    passwordPlaceholder: 'Enter your password',
    usernameRequired: 'Please enter your username',
    passwordRequired: 'Please enter your password',
    submit: 'Sign in',
    submitting: 'Signing in…',
    logout: 'Sign out',
    loggedOut: 'You have signed out',
    sessionExpired: 'Your session has expired. Please sign in again.',
    publicSitesLink: 'See the named demonstration sites',
  },
  errors: {
    invalid_credentials: 'Wrong username or password',
    too_many_attempts: 'Too many sign-in attempts. Please try again later.',
    too_many_attempts_retry: 'Too many sign-in attempts. Please try again in {seconds} seconds.',
    unauthenticated: 'You are not signed in or your session has expired',
    csrf_failed: 'The security check failed. Please reload the page and try again.',
    forbidden: 'You are not allowed to do this',
    validation_error: 'Some of the submitted values are not valid',
    not_found: 'What you asked for was not found',
    conflict: 'Someone else changed this in the meantime. Reload and try again.',
    payload_too_large: 'What you sent is larger than allowed',
    too_many_requests: 'Too many requests. Please try again later.',
    service_unavailable: 'The service is temporarily unavailable. Please try again later.',
    network_error: 'Cannot reach the server. Please check your connection and try again.',
    server_error: 'The server failed ({status}). Please try again later.',
    unknown: 'The request failed ({code})',
  },
  layout: {
    currentRole: 'Active role',
    user: 'Signed in as',
    organization: 'Organisation',
    mainMenu: 'Main menu',
    userMenu: 'User menu',
    noMenu: 'No functions are available for this role yet',
  },
  roles: {
    office: 'Office (Ideological and Political Work Division)',
    assessor: 'Assessment team member',
    committee: 'Review meeting member',
    approver: 'Department affairs meeting',
    recommender: 'Recommending body',
    applicant: 'Applicant unit',
    unit: 'Grassroots unit',
    sysadmin: 'System administrator',
    secadmin: 'Security administrator',
    auditor: 'Audit administrator',
  },
  orgKinds: {
    office: 'Office',
    member_unit: 'Joint-conference member unit',
    city_propaganda: 'City propaganda department',
    applicant_unit: 'Applicant unit',
    other: 'Other organisation',
  },
  menu: {
    home: 'My profile',
    applications: 'Applications',
    recommendations: 'Recommendations',
    preliminary: 'Preliminary review',
    assessment: 'Assessment',
    review: 'Review meeting',
    approval: 'Approval',
    awarding: 'Awarding',
    sites: 'Demonstration sites',
    ledger: 'Work ledger',
    admin: 'Administration',
  },
  home: {
    title: 'My profile',
    displayName: 'Name',
    username: 'Username',
    roles: 'Roles',
    activeRole: 'Active role',
    organization: 'Organisation',
    orgCode: 'Organisation code',
    orgKind: 'Organisation type',
    city: 'City',
    noCity: 'Provincial body',
    loadFailed: 'Could not load your profile',
  },
  area: {
    comingSoon: 'This area is under construction',
    description: '"{area}" will be available in a later release.',
  },
  publicSites: {
    title: 'Grassroots ideological and political work demonstration sites',
    intro:
      'Sites named after application, recommendation, preliminary review, assessment, review and approval by the department affairs meeting are published here.',
    empty: 'No demonstration sites have been published yet',
    login: 'Staff sign-in',
  },
  notFound: {
    title: 'Page not found',
    description: 'The page you asked for does not exist or has been removed.',
  },
  forbidden: {
    title: 'Access denied',
    description: 'Your active role may not open this page. Switch role or contact an administrator.',
  },
}

export default en
