/** Types of scripts/fresh-app.mjs, for the tests (the script itself is plain JavaScript). */
export function packTarball(root: string): string
export function userEnv(extra?: Record<string, string>): NodeJS.ProcessEnv
export function createViteApp(
  root: string,
  name?: string,
): { app: string; run: (cmd: string, args: string[], extra?: Record<string, string>) => string; runAsync: (cmd: string, args: string[], extra?: Record<string, string>) => Promise<string> }
export function installedPackages(modules: string): Map<string, string>
export function quickstartBlocks(readme: string): { name: string; code: string }[]
