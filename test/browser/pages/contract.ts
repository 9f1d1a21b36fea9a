import { CollectionEngine } from '../../../src/collection/engine.ts'
import { IdbBackend } from '../../../src/store/idb.ts'
import { collectionContract, createCoordination } from '../../contract/collectionContract.ts'
import { searchCollection } from '../../../src/search/searchCollection.ts'
import { expectCurrentRecords, expectEveryKillPointSafe, expectSameAnswers, loadDump, reviveTyped, type StorageFixture } from '../../contract/storageMigration.ts'
import v1FixtureJson from '../../fixtures/storage/v1.json?raw'
import v2FixtureJson from '../../fixtures/storage/v2.json?raw'
import v3FixtureJson from '../../fixtures/storage/v3.json?raw'
import v4FixtureJson from '../../fixtures/storage/v4.json?raw'
import v5FixtureJson from '../../fixtures/storage/v5.json?raw'
import v6FixtureJson from '../../fixtures/storage/v6.json?raw'

const w = window as unknown as { contractCases: string[]; runContractCase: (name: string) => Promise<string>; contractReady: boolean }
w.contractCases = Object.keys(collectionContract)
w.runContractCase = async (name) => {
  const coordination = createCoordination()
  try {
    await collectionContract[name]!({ backend: new IdbBackend(), coordination })
    return 'ok'
  } catch (error) {
    return error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error)
  } finally {
    coordination.close()
  }
}
/** Makes IndexedDB refuse records of documents whose id starts with 'big-', as a full disk would. */
;(w as any).runQuotaScenario = async () => {
  const coordination = createCoordination()
  const backend = new IdbBackend()
  const engine = await CollectionEngine.open('quota', { store: await backend.open('quota'), coordination, embedder: null })
  const noCheckpoint = async () => {}
  await engine.add([{ id: 'small', text: 'a small document that fits' }], noCheckpoint)
  const put = IDBObjectStore.prototype.put
  IDBObjectStore.prototype.put = function (this: IDBObjectStore, value: any, key?: IDBValidKey) {
    // A document record, or a record of documents (a passage block, a segment), of the second add.
    const big = (v: any) => typeof v?.id === 'string' && v.id.startsWith('big-')
    if (big(value) || (Array.isArray(value?.docs) && value.docs.some(big))) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError')
    return put.call(this, value, key)
  } as typeof put
  const big = Array.from({ length: 50 }, (_, i) => ({ id: `big-${i}`, text: `bulk ${i} lorem ipsum` }))
  const code = await engine.add(big, noCheckpoint).then(() => 'resolved', (e: any) => e.code)
  IDBObjectStore.prototype.put = put
  const reopened = await CollectionEngine.open('quota', { store: await backend.open('quota'), coordination, embedder: null })
  const result = {
    code,
    count: await reopened.count(),
    hits: (await searchCollection(reopened, { query: 'small document bulk', mode: 'keyword' }, noCheckpoint)).hits.map((h) => h.id),
    big: await reopened.get('big-0'),
    retried: 0,
  }
  await engine.add([{ id: 'big-0', text: 'bulk retried' }], noCheckpoint)
  result.retried = await engine.count()
  coordination.close()
  return result
}
/** Migration of real schema-1 to -6 databases, over Chromium's IndexedDB (test/contract/storageMigration.ts). */
;(w as any).runMigrationCase = async (schema: 'v1' | 'v2' | 'v3' | 'v4' | 'v5' | 'v6', name: 'kw' | 'vec' | 'kill points') => {
  try {
    const fixture = JSON.parse({ v1: v1FixtureJson, v2: v2FixtureJson, v3: v3FixtureJson, v4: v4FixtureJson, v5: v5FixtureJson, v6: v6FixtureJson }[schema], reviveTyped) as StorageFixture
    if (name === 'kill points') return { outcome: 'ok', killPoints: await expectEveryKillPointSafe(fixture, schema === 'v5' || schema === 'v6' ? 'vec' : 'kw') }
    await loadDump(name, fixture.databases[name])
    await expectSameAnswers(fixture, name)
    await expectCurrentRecords(fixture, name)
    return { outcome: 'ok' }
  } catch (error) {
    return { outcome: error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error) }
  }
}
/**
 * Writes the v6 fixture's database `name` as schema-6 code left it (lists in IndexedDB) and returns
 * that code's searches and answers, vectors as plain arrays (test/browser/listFiles.spec.ts).
 */
;(w as any).loadV6Fixture = async (name: 'kw' | 'vec') => {
  const fixture = JSON.parse(v6FixtureJson, reviveTyped) as StorageFixture
  await loadDump(name, fixture.databases[name])
  return fixture.answers[name].searches.map(({ request, hits }) => ({
    request: { ...request, ...(request.vector ? { vector: Array.from(request.vector as Float32Array) } : {}) },
    hits: hits.map((h) => ({ id: h.id, score: h.score })),
  }))
}
/** The page side of test/reliability/migrationCrash.spec.ts (test/reliability/pages/migrationCrash.ts), loaded on demand. */
;(w as any).loadMigrationCrash = async () => ((w as any).migrationCrash = (await import('../../reliability/pages/migrationCrash.ts')).migrationCrash)
w.contractReady = true
