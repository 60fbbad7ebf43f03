// SPDX-License-Identifier: Apache-2.0
// Routes of the shell. Pages of later modules are added by their issues, with their menu key in
// AVAILABLE_MENUS (utils/menu.js); until then their menu entries are hidden.
// A page with meta.permission (its read permission) is replaced by the 403 page, by the
// layout, for a user who does not hold it; the address stays as typed. meta.anyOf adds "and
// one of these" (the administration pages whose read permission the pickers need).
import { createRouter, createWebHistory } from 'vue-router'
import { ElMessage } from 'element-plus'
import { useAuthStore } from '@/stores/auth'
import { t } from '@/i18n'
import { MANAGE_PERMISSIONS } from '@/utils/menu'

const Layout = () => import('@/layout/AppLayout.vue')

const routes = [
  {
    path: '/login',
    name: 'login',
    component: () => import('@/views/login/LoginView.vue'),
    meta: { public: true, title: 'route.login' },
  },
  {
    path: '/',
    component: Layout,
    redirect: '/dashboard',
    children: [
      {
        path: 'dashboard',
        name: 'dashboard',
        component: () => import('@/views/dashboard/DashboardView.vue'),
        meta: { title: 'route.dashboard', icon: 'HomeFilled', affix: true },
      },
      {
        path: 'account/password',
        name: 'change-password',
        component: () => import('@/views/account/ChangePassword.vue'),
        meta: { title: 'route.changePassword' },
      },
      {
        path: 'system/users',
        name: 'system-users',
        component: () => import('@/views/system/UsersView.vue'),
        meta: { title: 'route.users', permission: 'system:user:read' },
      },
      {
        path: 'system/roles',
        name: 'system-roles',
        component: () => import('@/views/system/RolesView.vue'),
        meta: { title: 'route.roles', permission: 'system:role:read' },
      },
      {
        path: 'system/departments',
        name: 'system-departments',
        component: () => import('@/views/system/DepartmentsView.vue'),
        meta: { title: 'route.departments', permission: 'system:dept:read', anyOf: MANAGE_PERMISSIONS.dept },
      },
      {
        path: 'system/dicts',
        name: 'system-dicts',
        component: () => import('@/views/system/DictsView.vue'),
        meta: { title: 'route.dicts', permission: 'system:dict:read', anyOf: MANAGE_PERMISSIONS.dict },
      },
      {
        path: 'audit/logs',
        name: 'audit-logs',
        component: () => import('@/views/audit/AuditLogsView.vue'),
        meta: { title: 'route.auditLogs', permission: 'audit:log:read' },
      },
      {
        path: 'audit/logins',
        name: 'audit-logins',
        component: () => import('@/views/audit/LoginLogsView.vue'),
        meta: { title: 'route.loginLogs', permission: 'audit:login:read' },
      },
      {
        path: 'audit/operations',
        name: 'audit-operations',
        component: () => import('@/views/audit/OperationLogsView.vue'),
        meta: { title: 'route.operationLogs', permission: 'audit:operation:read' },
      },
      {
        path: 'account/profile',
        name: 'profile',
        component: () => import('@/views/account/ProfileView.vue'),
        meta: { title: 'sysAdmin.route.profile' },
      },
      {
        path: 'monitor/sessions',
        name: 'online-users',
        component: () => import('@/views/monitor/OnlineUsersView.vue'),
        meta: { title: 'sysAdmin.route.onlineUsers', permission: 'system:session:read' },
      },
      {
        path: 'monitor/services',
        name: 'service-status',
        component: () => import('@/views/monitor/ServiceStatusView.vue'),
        meta: { title: 'route.serviceStatus', permission: 'system:service:read' },
      },
      {
        path: 'notices',
        name: 'notices',
        component: () => import('@/views/notices/NoticesView.vue'),
        meta: { title: 'route.notices' },
      },
      {
        path: 'customers',
        name: 'customers',
        component: () => import('@/views/customer/CustomersView.vue'),
        meta: { title: 'route.customers', permission: 'customer:customer:read' },
      },
      {
        path: 'customers/recycle-bin',
        name: 'customer-recycle-bin',
        component: () => import('@/views/customer/RecycleBinView.vue'),
        meta: { title: 'route.recycleBin', permission: 'customer:customer:restore' },
      },
      {
        path: 'customers/:id(\\d+)',
        name: 'customer-detail',
        component: () => import('@/views/customer/CustomerDetailView.vue'),
        meta: { title: 'route.customerDetail', permission: 'customer:customer:read' },
      },
      {
        path: 'contacts',
        name: 'contacts',
        component: () => import('@/views/customer/ContactsView.vue'),
        meta: { title: 'route.contacts', permission: 'customer:contact:read' },
      },
      {
        path: 'followups',
        name: 'followups',
        component: () => import('@/views/customer/FollowupsView.vue'),
        meta: { title: 'route.followups', permission: 'customer:followup:read' },
      },
      {
        path: 'transfers',
        name: 'transfers',
        component: () => import('@/views/transfer/TransfersView.vue'),
        meta: { title: 'route.transfers', permission: 'transfer:transfer:read' },
      },
      {
        path: 'transfers/handover',
        name: 'transfer-handover',
        component: () => import('@/views/transfer/HandoverView.vue'),
        meta: { title: 'route.handover', permission: 'transfer:transfer:handover' },
      },
      {
        path: 'care',
        name: 'care',
        component: () => import('@/views/care/CareView.vue'),
        meta: { title: 'care.route.tasks', permission: 'care:task:read' },
      },
      {
        path: 'care/plans',
        name: 'care-plans',
        component: () => import('@/views/care/CarePlansView.vue'),
        meta: { title: 'care.route.plans', permission: 'care:task:read' },
      },
      {
        path: ':pathMatch(.*)*',
        name: 'not-found',
        component: () => import('@/views/error/NotFound.vue'),
        meta: { title: 'route.notFound' },
      },
    ],
  },
]

/** Only same-site paths are accepted as "go back there after login" targets. */
export function safeRedirect(value) {
  const v = Array.isArray(value) ? value[0] : value
  if (typeof v !== 'string' || !v.startsWith('/') || v.startsWith('//') || v.startsWith('/\\')) return null
  if (v === '/login' || v.startsWith('/login?')) return null
  return v
}

const router = createRouter({
  history: createWebHistory('/'),
  routes,
  scrollBehavior: () => ({ top: 0 }),
})

router.beforeEach(async (to, from) => {
  // A toast belongs to the page it was shown on: none outlives a change of page (a login).
  if (to.path !== from.path) ElMessage.closeAll()
  const auth = useAuthStore()
  if (to.meta.public) {
    if (to.name === 'login' && auth.isLoggedIn) return safeRedirect(to.query.redirect) || '/'
    return true
  }
  if (!auth.isLoggedIn) {
    return to.fullPath === '/' || to.fullPath === '/dashboard'
      ? { name: 'login' }
      : { name: 'login', query: { redirect: to.fullPath } }
  }
  // The profile is loaded once per page load; a failure is shown by the layout, not hidden.
  if (!auth.profile && !auth.profileError && !auth.profileLoading) {
    await auth.fetchProfile()
    // The tokens could not be refreshed while loading it: the session is over.
    if (!auth.isLoggedIn) return { name: 'login', query: { redirect: to.fullPath } }
  }
  return true
})

router.afterEach((to) => {
  const name = t('app.name')
  document.title = to.meta.title ? `${t(to.meta.title)} - ${name}` : name
})

export default router
