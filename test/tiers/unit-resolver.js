/**
 * The unit tier's module resolver: jest's own, except that the built package (dist/, also reached
 * through the package's own name) resolves to dist-refused.js, which throws the tier's rule when loaded
 * (jest turns an error thrown here into a bare "Cannot find module"). Unit tests run the sources; a test
 * of the built package belongs to the contract tier (jest.config.js, CONTRACT).
 */
const { realpathSync } = require("node:fs");
const path = require("node:path");

const ROOT = path.join(__dirname, "..", "..");
const DIST = path.join(ROOT, "dist");
const NAME = require(path.join(ROOT, "package.json")).name;
const REFUSED = path.join(__dirname, "dist-refused.js");

const inDist = (p) => p === DIST || p.startsWith(DIST + path.sep);

module.exports = (request, options) => {
  if (request === NAME || request.startsWith(`${NAME}/`)) return REFUSED;
  if ((request.startsWith(".") || path.isAbsolute(request)) && inDist(path.resolve(options.basedir, request))) return REFUSED;
  const resolved = options.defaultResolver(request, options);
  try {
    if (inDist(realpathSync(resolved))) return REFUSED;
  } catch {
    // a core module or a virtual path: not a file under dist/
  }
  return resolved;
};
