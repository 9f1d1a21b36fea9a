/**
 * The demos' own Trusted Types policy, `winnow-demo`, for what the demos do besides winnow that a
 * page with `require-trusted-types-for 'script'` guards: parsing an uploaded HTML file into inert
 * nodes (RAG), starting pdf.js's worker (RAG) and registering the service worker (docs search).
 * winnow itself needs only its own policy, `winnow-rerank`, and renders snippets with
 * `highlightNodes()`, which needs none. A page's policy allows both with
 * `trusted-types winnow-rerank winnow-demo`.
 *
 * Each use is a function here, so the policy object never leaves this module and cannot bless
 * anything else. Where the browser has no Trusted Types, the plain values are used.
 */

/** The name the page's `trusted-types` directive must list. */
export const DEMO_POLICY = 'winnow-demo'

interface DemoPolicy {
  createHTML(input: string): unknown
  createScriptURL(input: string): unknown
}

let policy: DemoPolicy | null | undefined

function demoPolicy(): DemoPolicy | null {
  if (policy !== undefined) return policy
  const factory = (globalThis as { trustedTypes?: { createPolicy(name: string, rules: object): DemoPolicy } }).trustedTypes
  try {
    policy =
      factory?.createPolicy(DEMO_POLICY, {
        // Only parseInertHtml() calls this, for a <template>: its content never runs scripts or loads anything.
        createHTML: (input: string) => input,
        // Only sameOriginScriptUrl() calls this, with a URL it checked is of this origin.
        createScriptURL: (input: string) => input,
      }) ?? null
  } catch {
    policy = null // the page's trusted-types directive does not list it: plain values, which only a page without Trusted Types accepts
  }
  return policy
}

/**
 * Parses HTML source into inert nodes (scripts never run, images and stylesheets never load), under
 * Trusted Types too. A `<template>`'s content rather than a DOMParser document: Chromium checks the
 * inline `<style>` of a DOMParser document against the page's Content-Security-Policy and reports
 * each one as a violation; a template's content is never styled, so it is not checked. Its
 * `<html>`, `<head>` and `<body>` tags are dropped, their content kept.
 *
 * @example
 * parseInertHtml('<title>Gull Point</title><p>A lens.</p>').querySelector('title')?.textContent // 'Gull Point'
 */
export function parseInertHtml(source: string): DocumentFragment {
  const own = demoPolicy()
  const template = document.createElement('template')
  // innerHTML takes a TrustedHTML where Trusted Types are required; TypeScript's DOM types only know strings.
  template.innerHTML = (own ? own.createHTML(source) : source) as string
  return template.content
}

/**
 * A same-origin script URL as `new Worker()` and `serviceWorker.register()` take it under Trusted
 * Types (a TrustedScriptURL), else the URL itself; throws for another origin.
 *
 * @example
 * new Worker(sameOriginScriptUrl(pdfWorkerUrl), { type: 'module' })
 */
export function sameOriginScriptUrl(url: string): string {
  const absolute = new URL(url, location.href)
  if (absolute.origin !== location.origin) throw new TypeError(`${DEMO_POLICY}: ${url} is not a script of this origin`)
  const own = demoPolicy()
  // A TrustedScriptURL where Trusted Types are required; TypeScript's DOM types only know strings.
  return (own ? own.createScriptURL(absolute.href) : absolute.href) as string
}
