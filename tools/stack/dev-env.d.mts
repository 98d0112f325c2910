// Types of dev-env.mjs for the TypeScript tools that import it (tools/dev-kick.ts).
export declare const SERVICES: Record<string, number>;
export declare const DEV_KICK: { port: number; clientId: string; clientSecret: string };
export declare function devSecrets(env?: Record<string, string | undefined>): Record<string, string>;
