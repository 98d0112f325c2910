export { startTcpProxy } from './tcp-proxy';
export type { TcpProxy } from './tcp-proxy';
export { spawnService } from './spawn-service';
export type { SpawnedService } from './spawn-service';
export { waitFor } from './wait-for';
export { describeServiceProcess } from './service-process';
export { freePortForTests } from './free-port';
