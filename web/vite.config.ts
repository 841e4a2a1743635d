// The dashboard's build: React with Vite into web/dist (served by Ringhook at /). `npm run dev:web` serves
// it with hot reload and passes the API through to a Ringhook on 127.0.0.1:4000.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

const here = path.dirname(fileURLToPath(import.meta.url))
const api = process.env.RINGHOOK_URL ?? 'http://127.0.0.1:4000'

export default defineConfig({
  root: here,
  base: '/',
  plugins: [react()],
  build: { outDir: path.join(here, 'dist'), emptyOutDir: true, assetsDir: 'assets', sourcemap: false, chunkSizeWarningLimit: 1024 },
  server: { proxy: { '/graphql': { target: api, ws: true } } },
})
