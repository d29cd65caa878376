// The interface language after the browser's: its own module, so that the admin console takes it
// without the playground's text table.

/** 'zh' for any Chinese browser language that comes first, else 'en'. */
export function pickLanguage(languages = navigator.languages?.length ? navigator.languages : [navigator.language]) {
  for (const lang of languages) {
    const l = String(lang).toLowerCase()
    if (l.startsWith('zh')) return 'zh'
    if (l.startsWith('en')) return 'en'
  }
  return 'en'
}
