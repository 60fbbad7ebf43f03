// Vite build of the CRM web front end. Output goes to web/dist and is served by the gateway:
// index.html must be sent with "Cache-Control: no-cache", everything under /assets/ has a
// content hash in its name and may be cached for a year ("immutable").
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import { readFileSync } from 'node:fs'
import { fileURLToPath, URL } from 'node:url'
import { parseServices } from '../shared/services.mjs'

// `npm run dev` / `npm run preview` proxy /api to a running gateway (dev stack by default).
const gateway = process.env.CRM_DEV_GATEWAY || 'http://127.0.0.1:8080'
const proxy = { '/api': { target: gateway, changeOrigin: false } }

// The services of the product (shared/services.def), whose names the dashboard lists. Only the
// names reach the bundle; a change of the table needs a new build (deploy/crm watches the file).
const services = parseServices(readFileSync(new URL('../shared/services.def', import.meta.url), 'utf8'))

// Libraries that change rarely get their own chunks, so an application release does not make
// browsers download Element Plus or ECharts again.
const vendorGroups = [
  { name: 'vendor-element-plus', test: /node_modules[\\/](element-plus|@element-plus|@vueuse|@floating-ui|@ctrl|async-validator|dayjs|lodash|lodash-es|lodash-unified|memoize-one|normalize-wheel-es)[\\/]/ },
  { name: 'vendor-echarts', test: /node_modules[\\/](echarts|zrender|tslib)[\\/]/ },
  { name: 'vendor-vue', test: /node_modules[\\/](vue|@vue|vue-router|pinia|vue-i18n|@intlify)[\\/]/ },
]

export default defineConfig({
  base: '/',
  plugins: [vue()],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  define: {
    __CRM_SERVICES__: JSON.stringify(services.map((s) => s.name)),
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
    // Element Plus imported as a whole is about 1 MB minified (about 300 KB gzip).
    chunkSizeWarningLimit: 1200,
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
