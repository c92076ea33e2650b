// Minimal hand-written protobuf encoder for a one-node ONNX model, so that
// onnxruntime-web can be benchmarked on exactly the same matmul as our kernel
// without pulling in the onnx protobuf schema.
//
// Field numbers are from onnx/onnx.proto (IR version 8, opset 13):
//   ModelProto        { ir_version=1 (int64), graph=7, opset_import=8 }
//   OperatorSetIdProto{ domain=1 (string), version=2 (int64) }
//   GraphProto        { node=1, name=2, initializer=5, input=11, output=12 }
//   NodeProto         { input=1, output=2, name=3, op_type=4, attribute=5 }
//   AttributeProto    { name=1, i=3, type=20 (INT=2) }
//   TensorProto       { dims=1 (int64), data_type=2 (FLOAT=1), name=8, raw_data=9 }
//   ValueInfoProto    { name=1, type=2 } ; TypeProto { tensor_type=1 }
//   TypeProto.Tensor  { elem_type=1, shape=2 } ; TensorShapeProto { dim=1 } ; Dimension { dim_value=1 }

type Bytes = Uint8Array;

function varint(n: number): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}

function concat(parts: (Bytes | number[])[]): Bytes {
  const len = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** wire type 0 */
const fInt = (field: number, v: number): number[] => [...varint(field << 3), ...varint(v)];
/** wire type 2 */
const fBytes = (field: number, b: Bytes): Bytes => concat([varint((field << 3) | 2), varint(b.length), b]);
const fStr = (field: number, s: string): Bytes => fBytes(field, new TextEncoder().encode(s));

function valueInfo(name: string, dims: number[]): Bytes {
  const shape = concat(dims.map((d) => fBytes(1, new Uint8Array(fInt(1, d)))));
  const tensorType = concat([fInt(1, 1 /* FLOAT */), fBytes(2, shape)]);
  const typeProto = fBytes(1, tensorType);
  return concat([fStr(1, name), fBytes(2, typeProto)]);
}

function tensor(name: string, dims: number[], data: Float32Array): Bytes {
  return concat([
    ...dims.map((d) => fInt(1, d)),
    fInt(2, 1),
    fStr(8, name),
    fBytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)),
  ]);
}

function intAttr(name: string, v: number): Bytes {
  return concat([fStr(1, name), fInt(3, v), fInt(20, 2 /* INT */)]);
}

export interface MatMulModelOptions {
  M: number;
  K: number;
  N: number;
  /** 'kn': MatMul(A[M,K], B[K,N]); 'nk': Gemm(A, W[N,K], transB=1) = A·Wᵀ (PyTorch Linear). */
  layout: 'kn' | 'nk';
  /** When given, B is a constant initializer (ORT may pre-pack it, as it would real weights); otherwise a graph input. */
  weights?: Float32Array;
}

/** Returns the serialized ModelProto bytes. Inputs: "A" (and "B" if no weights). Output: "C". */
export function buildMatMulModel(o: MatMulModelOptions): Uint8Array {
  const bDims = o.layout === 'kn' ? [o.K, o.N] : [o.N, o.K];
  const node = concat([
    fStr(1, 'A'),
    fStr(1, 'B'),
    fStr(2, 'C'),
    fStr(3, 'mm'),
    fStr(4, o.layout === 'kn' ? 'MatMul' : 'Gemm'),
    ...(o.layout === 'nk' ? [fBytes(5, intAttr('transB', 1))] : []),
  ]);
  const graph = concat([
    fBytes(1, node),
    fStr(2, 'g'),
    ...(o.weights ? [fBytes(5, tensor('B', bDims, o.weights))] : []),
    fBytes(11, valueInfo('A', [o.M, o.K])),
    ...(o.weights ? [] : [fBytes(11, valueInfo('B', bDims))]),
    fBytes(12, valueInfo('C', [o.M, o.N])),
  ]);
  const opset = concat([fStr(1, ''), fInt(2, 13)]);
  return concat([fInt(1, 8), fBytes(7, graph), fBytes(8, opset)]);
}
