// Types of node-runtime.mjs, which stays plain JavaScript: it runs before anything is installed.
export declare const NODE_MAJOR: number;
export declare function needsNewerNode(version: string, major?: number): boolean;
export declare function nodePackageFor(platform: string, arch: string): { name: string; binary: string } | undefined;
export declare function nodeDirOf(root: string, major?: number): string;
export declare function fetchedNode(root: string, platform?: string, arch?: string, major?: number): string | undefined;
export declare function fetchNode(
  root: string,
  options?: { platform?: string; arch?: string; major?: number; log?: (message: string) => void },
): string;
