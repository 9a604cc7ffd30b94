// What `npm run jobs` runs: the CLI (cli/main.ts) from a bundle that esbuild builds into .build/ the
// first time and again whenever a source it was built from (or the installed packages) changed. A
// command then starts in a fraction of the time it takes tsx to load the TypeScript modules one by one
// (docs/decisions.md, "One DynamoDB Local per home, kept between commands"). Plain JavaScript, so that
// node runs it at once. If the bundle cannot be built, or PROMO_JOBS_CLI_BUNDLE=0, the CLI runs from
// its sources under tsx as before.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(root, '.build');
const manifestPath = join(out, 'inputs.json');
const ENTRIES = { cli: 'cli/main.ts', 'server-supervisor': 'cli/local/server-supervisor.ts' };
/** Not sources, but a change of them changes the bundle: the installed packages. */
const ALSO = ['node_modules/.package-lock.json', 'package.json', 'cli/launch.mjs'];

const mtime = (path) => {
  try {
    return statSync(join(root, path)).mtimeMs;
  } catch {
    return Number.POSITIVE_INFINITY; // gone: build again (and let esbuild say what is missing)
  }
};

function isFresh() {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch {
    return false;
  }
  if (!Object.keys(ENTRIES).every((name) => existsSync(join(out, `${name}.mjs`)))) return false;
  return [...manifest.inputs, ...ALSO].every((path) => mtime(path) <= manifest.builtFrom);
}

async function build() {
  const esbuild = await import('esbuild');
  const builtFrom = Date.now() - 1; // a source saved during the build makes the next command build again
  const scratch = join(out, `tmp-${process.pid}`);
  mkdirSync(scratch, { recursive: true });
  try {
    const result = await esbuild.build({
      absWorkingDir: root,
      entryPoints: ENTRIES,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outdir: scratch,
      outExtension: { '.js': '.mjs' },
      metafile: true,
      logLevel: 'silent',
      define: { __PROMO_JOBS_BUNDLE__: 'true' },
      // Loaded from node_modules at run time: large, and only for the browser check of a chart.
      external: ['puppeteer-core', 'playwright-core'],
      // CommonJS packages in an ES module bundle call require(): give them one.
      banner: {
        js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
      },
    });
    const inputs = Object.keys(result.metafile.inputs).filter((path) => !path.includes('node_modules/'));
    // Each file moved into place whole; a concurrent build of the same sources writes the same files.
    for (const name of Object.keys(ENTRIES))
      renameSync(join(scratch, `${name}.mjs`), join(out, `${name}.mjs`));
    writeFileSync(join(scratch, 'inputs.json'), JSON.stringify({ builtFrom, inputs }));
    renameSync(join(scratch, 'inputs.json'), manifestPath);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function fromBundle() {
  if (!isFresh()) await build();
  return import(pathToFileURL(join(out, 'cli.mjs')).href);
}

async function fromSources() {
  const { register } = await import('tsx/esm/api');
  register();
  return import(pathToFileURL(join(root, 'cli/main.ts')).href);
}

let cli;
if (process.env.PROMO_JOBS_CLI_BUNDLE === '0') {
  cli = await fromSources();
} else {
  try {
    cli = await fromBundle();
  } catch (error) {
    process.stderr.write(`[warn] running the CLI from its sources (no bundle: ${error?.message ?? error})\n`);
    cli = await fromSources();
  }
}
cli.runFromShell();
