// Detail routes of the creation workflow (the areas' list pages come from navigation/areas.ts).
import type { RouteRecordRaw } from 'vue-router'

const WORKFLOW_ROLES = ['applicant', 'recommender', 'office', 'assessor', 'committee', 'approver'] as const

export const workflowRoutes: RouteRecordRaw[] = [
  {
    path: 'applications/new',
    name: 'application-new',
    component: () => import('@/pages/workflow/applicant/ApplicationFormPage.vue'),
    meta: { roles: ['applicant'], title: 'workflow.applicant.newTitle' },
  },
  {
    path: 'applications/:id(\\d+)',
    name: 'application-detail',
    component: () => import('@/pages/workflow/ApplicationDetailPage.vue'),
    props: (route) => ({ id: Number(route.params.id) }),
    meta: { roles: WORKFLOW_ROLES, title: 'workflow.common.detail' },
  },
  {
    path: 'applications/:id(\\d+)/edit',
    name: 'application-edit',
    component: () => import('@/pages/workflow/applicant/ApplicationFormPage.vue'),
    props: (route) => ({ id: Number(route.params.id) }),
    meta: { roles: ['applicant', 'recommender'], title: 'workflow.applicant.editTitle' },
  },
  {
    path: 'assessment/:id(\\d+)',
    name: 'assessment-form',
    component: () => import('@/pages/workflow/assessor/AssessmentFormPage.vue'),
    props: (route) => ({ id: Number(route.params.id) }),
    meta: { roles: ['assessor'], title: 'workflow.assessor.formTitle' },
  },
  {
    path: 'rounds/:id(\\d+)',
    name: 'round-detail',
    component: () => import('@/pages/workflow/office/RoundDetailPage.vue'),
    props: (route) => ({ id: Number(route.params.id) }),
    meta: { roles: ['office'], title: 'workflow.rounds.detailTitle' },
  },
]
