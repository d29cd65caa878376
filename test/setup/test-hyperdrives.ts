/** The Hyperdrive binding vitest.config.ts gives each test database on the Hyperdrive way. */
export const testHyperdriveBinding = (name: string) => `TEST_HYPERDRIVE_${name}`
