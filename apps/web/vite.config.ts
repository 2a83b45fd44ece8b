import vue from '@vitejs/plugin-vue'
import { defaultClientConditions, defineConfig } from 'vite'

export default defineConfig({
  plugins: [vue()],
  resolve: { conditions: ['@actas/source', ...defaultClientConditions] },
})
