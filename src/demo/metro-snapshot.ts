import raw from './metro-snapshot.json'
import { SnapshotSchema, type Snapshot } from '../schema/snapshot-schema'

/** The demo schema `npm start` loads into local KV: a Chinese-commented Hangzhou metro database. */
export const demoSnapshot: Snapshot = SnapshotSchema.parse(raw)
