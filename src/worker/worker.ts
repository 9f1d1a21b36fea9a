/**
 * The worker entry and composition root: holds a Web Lock for as long as it lives (so the page can
 * tell when it dies, however it dies), then exposes the service over comlink.
 */
import * as Comlink from 'comlink'
import { ALIVE_MESSAGE, DEVICE_LOST_MESSAGE, LOCK_PREFIX } from './protocol.js'
import { WorkerService } from './service.js'

interface WorkerScope {
  name: string
  navigator: { locks?: LockManager }
  postMessage(message: unknown): void
}
const scope = self as unknown as WorkerScope & Comlink.Endpoint

Comlink.expose(new WorkerService({ onDeviceLost: (loss) => scope.postMessage({ type: DEVICE_LOST_MESSAGE, loss }) }), scope)

const lockName = scope.name.startsWith(LOCK_PREFIX) ? scope.name : ''
if (lockName && scope.navigator.locks) {
  void scope.navigator.locks.request(lockName, () => {
    scope.postMessage({ type: ALIVE_MESSAGE })
    return new Promise<never>(() => {}) // held until this worker is gone
  })
} else {
  scope.postMessage({ type: ALIVE_MESSAGE })
}
