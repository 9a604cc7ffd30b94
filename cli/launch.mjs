// What `npm run jobs` runs: the CLI (cli/main.ts) from a bundle that esbuild builds into .build/ the
// first time and again whenever a source it was built from (or the installed packages) changed. A
// command then starts in a fraction of the time it takes tsx to load the TypeScript modules one by one
// (docs/decisions.md, "One DynamoDB Local per home, kept between commands"). Plain JavaScript, so that
// node runs it at once. If the bundle cannot be built, or PROMO_JOBS_CLI_BUNDLE=0, the CLI runs from
// its sources under tsx as before.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(root, '.build');
const manifestPath = join(out, 'inputs.json');
const ENTRIES = { cli: 'cli/main.ts', 'server-supervisor': 'cli/local/server-supervisor.ts' };
const OUTPUTS = ['cli.cjs', 'server-supervisor.mjs'];
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
  if (!OUTPUTS.every((name) => existsSync(join(out, name)))) return false;
  return [...manifest.inputs, ...ALSO].every((path) => mtime(path) <= manifest.builtFrom);
}

const BANNER =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

async function build() {
  const esbuild = await import('esbuild');
  const builtFrom = Date.now() - 1; // a source saved during the build makes the next command build again
  const scratch = join(out, `tmp-${process.pid}`);
  mkdirSync(scratch, { recursive: true });
  const common = {
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    target: 'node20',
    metafile: true,
    logLevel: 'silent',
    // Loaded from node_modules at run time: large, and only for the browser check of a chart.
    external: ['puppeteer-core', 'playwright-core'],
  };
  try {
    // The CLI as one CommonJS script, so that V8's code cache can be kept for it (see run()); the
    // supervisor, which runs once per server, as an ES module.
    const [cli, supervisor] = await Promise.all([
      esbuild.build({
        ...common,
        entryPoints: [ENTRIES.cli],
        format: 'cjs',
        outfile: join(scratch, 'cli.cjs'),
        define: { __PROMO_JOBS_BUNDLE__: 'true', 'import.meta.url': '__bundleUrl' },
        banner: { js: "var __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
      }),
      esbuild.build({
        ...common,
        entryPoints: [ENTRIES['server-supervisor']],
        format: 'esm',
        outfile: join(scratch, 'server-supervisor.mjs'),
        define: { __PROMO_JOBS_BUNDLE__: 'true' },
        // CommonJS packages in an ES module bundle call require(): give them one.
        banner: { js: BANNER },
      }),
    ]);
    const inputs = [
      ...new Set([...Object.keys(cli.metafile.inputs), ...Object.keys(supervisor.metafile.inputs)]),
    ];
    // Each file moved into place whole; a concurrent build of the same sources writes the same files.
    rmSync(join(out, 'cli.cjs.cache'), { force: true });
    for (const name of ['cli.cjs', 'server-supervisor.mjs']) renameSync(join(scratch, name), join(out, name));
    writeFileSync(
      join(scratch, 'inputs.json'),
      JSON.stringify({ builtFrom, inputs: inputs.filter((path) => !path.includes('node_modules/')) }),
    );
    renameSync(join(scratch, 'inputs.json'), manifestPath);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Runs the CommonJS bundle with V8's code cache (.build/cli.cjs.cache, written after the first run):
 * compiling the 3 MB bundle is most of a command's start-up, and the cache skips it. Node.js 20 has
 * no such cache for ES modules (module.enableCompileCache is Node.js 22).
 */
function run(file) {
  const cachePath = `${file}.cache`;
  let cachedData;
  try {
    cachedData = readFileSync(cachePath);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), {
    filename: file,
    cachedData,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  if (cachedData === undefined || script.cachedDataRejected) {
    // Once the command has run, the cache holds the functions it compiled too.
    process.once('exit', () => {
      try {
        const aside = `${cachePath}.${process.pid}`;
        writeFileSync(aside, script.createCachedData());
        renameSync(aside, cachePath);
      } catch {
        // a cache is only an optimisation
      }
    });
  }
  return module.exports;
}

async function fromBundle() {
  if (!isFresh()) await build();
  return run(join(out, 'cli.cjs'));
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
