// The WGSL templates (handlebars), kept in a module so bundles carry them.

/** One kernel: its storage buffers, the sizes uniform, helpers it needs, and the entry point. */
export const kernelTemplate = `// {{name}}{{#if loc}}  ({{loc}}){{/if}}: {{ops}}
{{#each buffers}}
@group(0) @binding({{@index}}) var<storage, {{access}}> {{id}}: array<{{type}}>;
{{/each}}
struct Sizes { v: array<vec4<i32>, {{sizeVecs}}> }
@group(0) @binding({{sizesBinding}}) var<uniform> sizes: Sizes;
{{#if erf}}

// erf (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7): WGSL has none.
fn erf_(x: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.3275911 * abs(x));
  let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-x * x);
  return select(-y, y, x >= 0.0);
}
{{/if}}

@compute @workgroup_size({{workgroupSize}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let flat = i32(gid.x + gid.y * groups.x * {{workgroupSize}}u);
{{#each locals}}
  var {{id}}: {{type}};
{{/each}}
{{{body}}}
}
`;
