import { chromium, type Browser } from 'playwright-core'

/** Debian's Chromium (or CHROMIUM_PATH), headless, kept off the network (docs: TOOLCHAIN, "A real browser"). */
export function launchChromium(): Promise<Browser> {
  // Playwright gives each launch a fresh temporary profile (it refuses --user-data-dir).
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
}
