// Vite build of the CRM web front end. Output goes to web/dist and is served by the gateway:
// index.html must be sent with "Cache-Control: no-cache", everything under /assets/ has a
// content hash in its name and may be cached for a year ("immutable").
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'
import { readFileSync } from 'node:fs'
import { fileURLToPath, URL } from 'node:url'
import { parseServices } from '../shared/services.mjs'
import precompress from './build/precompress.js'

// `npm run dev` / `npm run preview` proxy /api to a running gateway (dev stack by default).
const gateway = process.env.CRM_DEV_GATEWAY || 'http://127.0.0.1:8080'
const proxy = { '/api': { target: gateway, changeOrigin: false } }

// The services of the product (shared/services.def), whose names the dashboard lists. Only the
// names reach the bundle; a change of the table needs a new build (deploy/crm watches the file).
const services = parseServices(readFileSync(new URL('../shared/services.def', import.meta.url), 'utf8'))

// The writes of the route table (shared/routes.def) as [method, pattern, permission]: the
// operation log names a request by its module and action (the permission) instead of its path.
const writeRoutes = [
  ...readFileSync(new URL('../shared/routes.def', import.meta.url), 'utf8').matchAll(
    /^ROUTE\("(POST|PUT|PATCH|DELETE)", "([^"]+)", [a-z_]+, "([^"]+)"\)/gm,
  ),
].map((m) => [m[1], m[2], m[3]])

// Vue and its router, store and i18n change rarely and every page needs them: one chunk, so an
// application release does not make browsers download them again. Element Plus components and
// ECharts are split by the pages that use them (imported on demand), not grouped: a group would
// make the login page load every component of every page.
const vendorGroups = [{ name: 'vendor-vue', test: /node_modules[\\/](vue|@vue|vue-router|pinia|vue-i18n|@intlify)[\\/]/ }]

export default defineConfig({
  base: '/',
  plugins: [
    vue(),
    // Element Plus components (and their CSS) imported where a template uses them; the
    // components used from scripts (ElMessage, ElMessageBox) are imported by those scripts.
    Components({ resolvers: [ElementPlusResolver({ importStyle: 'css', directives: true })], dts: false }),
    precompress(),
  ],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  define: {
    __CRM_SERVICES__: JSON.stringify(services.map((s) => s.name)),
    __CRM_WRITE_ROUTES__: JSON.stringify(writeRoutes),
    // vue-i18n: composition API only, no legacy API, no devtools in production builds.
    __VUE_I18N_FULL_INSTALL__: true,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: false,
  },
  server: { host: '127.0.0.1', port: 5173, proxy },
  preview: { host: '127.0.0.1', port: 4173, proxy },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    sourcemap: false,
    // ECharts (core, the bar chart, canvas) is about 500 KB minified, loaded by chart pages only.
    chunkSizeWarningLimit: 600,
    rolldownOptions: {
      output: {
        entryFileNames: 'assets/[name]-[hash].js',
        chunkFileNames: 'assets/[name]-[hash].js',
        assetFileNames: 'assets/[name]-[hash][extname]',
        codeSplitting: { groups: vendorGroups },
      },
    },
  },
})
