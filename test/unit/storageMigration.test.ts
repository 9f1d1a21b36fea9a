/**
 * Format v2 migration of real schema-1 databases over fake-indexeddb; the cases are shared with
 * Chromium (test/contract/storageMigration.ts).
 */
import { IDBFactory } from 'fake-indexeddb'
import 'fake-indexeddb/auto'
import { readFileSync } from 'node:fs'
import { beforeEach, describe, expect, it } from 'vitest'
import { SCHEMA_VERSION } from '../../src/store/types.js'
import { expectEveryKillPointSafe, expectSameAnswers, expectV2Records, loadV1, reviveTyped, type V1Fixture } from '../contract/storageMigration.js'

const fixture = JSON.parse(readFileSync(new URL('../fixtures/storage/v1.json', import.meta.url), 'utf8'), reviveTyped) as V1Fixture

beforeEach(() => {
  globalThis.indexedDB = new IDBFactory()
})

describe('format v2 migration of real schema-1 collections (fake-indexeddb)', () => {
  it('the fixture holds what a migration must carry: several segments, tombstones, chunked and vector collections', () => {
    const { kw, vec } = fixture.databases
    expect(kw.stores.segments!.length).toBeGreaterThanOrEqual(4)
    expect(kw.stores.tombstones!.length).toBeGreaterThan(0)
    expect(kw.stores.chunks!.length).toBeGreaterThan(kw.stores.docs!.length)
    expect(vec.stores.vectors!.length).toBeGreaterThan(0)
    expect(vec.stores.tombstones!.length).toBeGreaterThan(0)
    expect(fixture.answers.kw.searches.every((s) => s.hits.length > 0)).toBe(true)
  })

  for (const name of ['kw', 'vec'] as const) {
    it(`${name}: opening migrates to schema ${SCHEMA_VERSION} and answers as schema 1 did; postings packed, each text stored once`, async () => {
      await loadV1(name, fixture.databases[name])
      await expectSameAnswers(fixture, name)
      await expectV2Records(fixture, name)
    })
  }

  it('a migration that fails at any of its requests leaves schema 1 exactly as it was; the next open migrates it', async () => {
    expect(await expectEveryKillPointSafe(fixture)).toBeGreaterThan(50)
  })
})
