/**
 * `pnpm cluster [--nodes N]`: runs etcd and N Strata nodes (3 unless told) in the foreground, on free
 * ports with throwaway data paths, and prints how to reach them. Ctrl-C stops them and removes their data.
 */
import { startCluster } from './cluster.js';

const args = process.argv.slice(2);
let count = 3;
if (args.length > 0) {
  const value = Number(args[1]);
  if (args[0] !== '--nodes' || args.length !== 2 || !Number.isInteger(value) || value < 1 || value > 9) {
    console.error(`usage: pnpm cluster [--nodes N]  (N from 1 to 9; got ${JSON.stringify(args.join(' '))})`);
    process.exit(2);
  }
  count = value;
}

console.log(`Starting etcd and ${count} Strata nodes...`);
const cluster = await startCluster({ nodes: count, leaseTtlSeconds: 5 });
const [first] = cluster.nodes;
console.log(`Strata cluster on etcd ${cluster.etcd.endpoint}

${cluster.nodes.map((node) => `  ${node.name}  ${node.url}   (data: ${node.dataPath})`).join('\n')}

Any node serves any request. Try:

  curl -s '${first?.url}/v1/nodes?output=verbose'
  curl -s -X POST ${first?.url}/v1/schema -H 'content-type: application/json' -d '{"class": "Article"}'
  curl -s '${cluster.nodes.at(-1)?.url}/v1/schema'

Ctrl-C stops the nodes and etcd and removes their data.`);

const stop = () => void cluster.stop().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
