/**
 * `npm run data -- <command> [options]`: data preparation commands.
 *   synfer    generate the synthetic face set (tools/data-synfer.ts)
 *   manifest  turn a real dataset's folder into a manifest CSV (tools/data-manifest.ts)
 */
const COMMANDS: Record<string, { module: string; about: string }> = {
  synfer: { module: './data-synfer', about: 'generate the synthetic face set (SynFER)' },
  manifest: { module: './data-manifest', about: "write a manifest CSV for a real dataset's folder" },
};

function usage(): string {
  return ['usage: npm run data -- <command> [options]', '', 'commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.about}`),
    '', "run 'npm run data -- <command> --help' for a command's options"].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h') {
    console.log(usage());
    return;
  }
  const entry = COMMANDS[command];
  if (!entry) throw new Error(`unknown command '${command}'\n\n${usage()}`);
  const mod = require(entry.module) as { main(args: string[]): Promise<void> };
  await mod.main(rest);
}

main(process.argv.slice(2)).catch((e: Error) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
