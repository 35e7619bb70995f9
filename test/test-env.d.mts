export declare function testDatabaseUrl(): string;
export declare function testRedisUrl(): string;
