// How every function is bundled, in one place: the stack (infra/constructs/promo-function.ts) and the
// benchmark's footprint row (test/bench/bench.ts) build the same bundle from these settings.
// Why each one, and the sizes and load times they gave: docs/performance.md ("Lambda bundles").

/** The Node.js version the bundles are compiled for: the Lambda runtime's (infra RUNTIME). */
export const BUNDLE_TARGET = 'node22';

/**
 * ES modules, resolving packages through their `module` entry first: the SDK's and zod's ES builds
 * let esbuild drop what is never imported (the CommonJS builds cannot be tree-shaken).
 */
export const BUNDLE_FORMAT = 'esm';
export const BUNDLE_MAIN_FIELDS = ['module', 'main'];

/**
 * Some CommonJS dependencies inside an ES module bundle still call `require` for Node.js built-ins:
 * give the module a real one.
 */
export const BUNDLE_BANNER =
  "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

/**
 * The credential providers a function never reaches in Lambda, left out of the bundle. The default
 * chain takes the execution role's credentials from the environment (`AWS_ACCESS_KEY_ID`, … which
 * Lambda always sets) in its first step; the later steps (SSO, profiles, processes, web identity,
 * container and instance metadata, and the STS/SSO clients they use) are loaded with dynamic
 * `import()` only when the earlier ones found nothing, so they are never loaded there. Were they
 * ever, the runtime's own copy of the SDK would answer. Every client we call is still bundled, at
 * the version we pin and test.
 */
export const BUNDLE_EXTERNAL_MODULES = [
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/credential-provider-http',
  '@aws-sdk/credential-provider-login',
  '@aws-sdk/token-providers',
  '@aws-sdk/nested-clients',
  '@smithy/credential-provider-imds',
];
