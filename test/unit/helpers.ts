/** The WinnowError code of a call or a promise (see test/helpers/errors.ts). */
export { codeOf } from '../helpers/errors.js'

/** A deterministic pseudo-random generator in [0, 1) (mulberry32), so property data is reproducible. */
export { seededRandom as seeded } from '../../src/core/random.js'
