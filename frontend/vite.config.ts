import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";
import tailwindcss from "@tailwindcss/vite";
import path from "node:path";

// `vite preview` stands in for CloudFront locally: the built files, and `/api/*` forwarded to the
// API (the local stack's gateway or the console API example). CONSOLE_API_URL names it.
// CONSOLE_CHAT_URL, the local stack's chat receiver, is forwarded under /local-chat so the
// Notifications section can show what the chat received (on AWS the messages are in the chat).
const apiTarget = process.env.CONSOLE_API_URL ?? "http://127.0.0.1:8090";
const chatTarget = process.env.CONSOLE_CHAT_URL;
const proxy = {
  "/api": { target: apiTarget, changeOrigin: true },
  ...(chatTarget ? { "/local-chat": { target: chatTarget, changeOrigin: true, rewrite: (p: string) => p.replace(/^\/local-chat/, "") } } : {}),
};

export default defineConfig({
  plugins: [react(), tailwindcss()],
  resolve: { alias: { "@": path.resolve(import.meta.dirname, "src") } },
  server: { host: "127.0.0.1", proxy },
  preview: { host: "127.0.0.1", proxy, strictPort: true },
  build: { sourcemap: false, chunkSizeWarningLimit: 400 },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
