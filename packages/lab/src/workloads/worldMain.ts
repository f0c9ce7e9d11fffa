// Process entry for the world web servers (run in the tycho-world namespace).
import { WORLD_HOSTS, WORLD_HTTP_PORTS } from '../world.ts';
import { startWorldServer } from './worldServer.ts';

const { servers } = await startWorldServer({
  ports: WORLD_HTTP_PORTS,
  nameOf: (address) => WORLD_HOSTS.find((h) => h.ip === address)?.name,
});
console.log(`world: serving ${WORLD_HOSTS.map((h) => `${h.name} (${h.ip})`).join(', ')} on ports ${WORLD_HTTP_PORTS.join(', ')}`);
const stop = () => {
  for (const server of servers) server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
