// Build step: the provider plugin's launcher (provider/plugin/bin) goes next to the compiled plugin,
// dist/provider/plugin/bin/pulumi-resource-firewall-grants, executable (npm keeps the mode when packing).
const fs = require("node:fs");
const path = require("node:path");
const root = path.join(__dirname, "..");
const name = "pulumi-resource-firewall-grants";
const dir = path.join(root, "dist", "provider", "plugin", "bin");
fs.mkdirSync(dir, { recursive: true });
fs.copyFileSync(path.join(root, "provider", "plugin", "bin", name), path.join(dir, name));
fs.chmodSync(path.join(dir, name), 0o755);
fs.copyFileSync(path.join(root, "provider", "plugin", "schema.json"), path.join(root, "dist", "provider", "plugin", "schema.json"));
