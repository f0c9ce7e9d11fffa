import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `npm run dev -w @tycho/web` proxies the API (REST and the stream) to a local tycho-api.
const api = process.env.TYCHO_API ?? 'http://localhost:32321';

export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1024 },
  server: { proxy: { '/api': { target: api, ws: true } } },
});
