// The pages' one shell: each page file in web/ holds only its own part (its <title>, its script,
// its <main>); this Vite plugin wraps it in the document every page shares: the head, the slot
// of the host kit's banner (#actas, boot.ts), and the header with the navigation, the current
// page marked. It runs before Vite reads the HTML (`order: 'pre'`), in `vite` and `vite build`.
import type { Plugin } from 'vite'

/** The navigation: each page's address and the HTML file it is built from. */
const PAGES = [
  { href: '/', label: 'Orders', file: '/index.html' },
  { href: '/account.html', label: 'Account', file: '/account.html' },
  { href: '/access.html', label: 'Support access', file: '/access.html' },
] as const

export function pageShell(): Plugin {
  return {
    name: 'customer-app:page-shell',
    transformIndexHtml: {
      order: 'pre',
      handler(html, ctx) {
        const at = html.indexOf('<main')
        if (at < 0) throw new Error(`${ctx.path}: a page holds its <title>, script and <main>`)
        const nav = PAGES.map(
          (p) =>
            `<a href="${p.href}"${p.file === ctx.path ? ' aria-current="page"' : ''}>${p.label}</a>`,
        ).join('\n        ')
        return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="./style.css" />
    ${html
      .slice(0, at)
      .replace(/<!--[\s\S]*?-->/g, '')
      .trim()}
  </head>
  <body>
    <div id="actas"></div>
    <header class="top">
      <span class="brand">Acme Shop</span>
      <nav aria-label="Main">
        ${nav}
      </nav>
      <span id="who" class="who"></span>
    </header>
    ${html.slice(at).trim()}
  </body>
</html>
`
      },
    },
  }
}
