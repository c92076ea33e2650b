# The PyTorch side of `npm run bench:webgpu` and of `npm run bench:cuda`: one MoE FFN layer as Hugging Face writes it
# (MixtralSparseMoeBlock / OlmoeSparseMoeBlock: router linear, softmax in f32, top-k, optional renormalisation, a loop
# over experts with index_add_), in f32 (TF32 off, PyTorch's default for matmuls) and in bf16, plus the same layer
# over tokens sorted by expert with torch._grouped_mm (bf16). Weights and inputs come from the index hash that
# bench/moe-layer.ts uses, so moec's output can be compared with the f32 one, which this script writes.
#
#   python3 torch_moe.py --out DIR [--shapes mixtral,olmoe] [--tokens 16,512,4096]
import argparse, json, math, os, statistics

import torch
import torch.nn.functional as F

SHAPES = {
    'mixtral': dict(d=4096, ff=14336, experts=8, k=2, normalize=True),
    'olmoe': dict(d=2048, ff=1024, experts=64, k=8, normalize=False),
    'qwen': dict(d=2048, ff=1408, experts=60, k=4, normalize=False),
}
SALT = {'router': 1, 'gate': 2, 'up': 3, 'down': 4, 'x': 5}


def hash_tensor(shape, salt, scale):
    """f32(f32(h / 2^32) - 0.5) * f32(scale), h the murmur3 finaliser of u32(i*2654435761 + salt*40503): element i of
    the flattened tensor, bit for bit as bench/moe-layer.ts makes it."""
    n = math.prod(shape)
    out = torch.empty(n, dtype=torch.float32, device='cuda')
    chunk = 1 << 26
    for at in range(0, n, chunk):
        i = torch.arange(at, min(n, at + chunk), dtype=torch.int64, device='cuda')
        m = (1 << 32) - 1
        u = (i * 2654435761 + salt * 40503) & m
        u = u ^ (u >> 16)
        u = (u * 0x85ebca6b) & m
        u = u ^ (u >> 13)
        u = (u * 0xc2b2ae35) & m
        u = u ^ (u >> 16)
        out[at:at + len(i)] = (u.to(torch.float32) / 4294967296.0 - 0.5) * torch.tensor(scale, dtype=torch.float32, device='cuda')
    return out.view(*shape)


def weights(s):
    d, ff, E = s['d'], s['ff'], s['experts']
    return dict(
        router=hash_tensor((E, d), SALT['router'], math.sqrt(12 / d)),
        gate=hash_tensor((E, ff, d), SALT['gate'], math.sqrt(12 / d)),
        up=hash_tensor((E, ff, d), SALT['up'], math.sqrt(12 / d)),
        down=hash_tensor((E, d, ff), SALT['down'], math.sqrt(12 / ff)),
    )


def route(x, w, s):
    logits = F.linear(x, w['router'])
    probs = F.softmax(logits, dim=-1, dtype=torch.float32)
    top, idx = torch.topk(probs, s['k'], dim=-1)
    if s['normalize']:
        top = top / top.sum(dim=-1, keepdim=True)
    return top.to(x.dtype), idx


def moe_loop(x, w, s):
    """Hugging Face's per-expert loop."""
    top, idx = route(x, w, s)
    y = torch.zeros_like(x)
    mask = F.one_hot(idx, num_classes=s['experts']).permute(2, 1, 0)
    hit = torch.greater(mask.sum(dim=(-1, -2)), 0).nonzero()
    for e in hit:
        e = e[0]
        slot, tok = torch.where(mask[e])
        h = x[tok]
        h = F.silu(F.linear(h, w['gate'][e])) * F.linear(h, w['up'][e])
        h = F.linear(h, w['down'][e]) * top[tok, slot, None]
        y.index_add_(0, tok, h.to(x.dtype))
    return y, idx


def moe_grouped(x, w, s):
    """Tokens sorted by expert, one torch._grouped_mm per projection (gate and up stacked)."""
    top, idx = route(x, w, s)
    flat = idx.flatten()
    order = torch.argsort(flat, stable=True)
    counts = torch.bincount(flat, minlength=s['experts'])
    offs = torch.cumsum(counts, 0).to(torch.int32)
    rows = x[order // s['k']]
    gu = torch._grouped_mm(rows, w['gate_up_t'], offs=offs)
    g, u = gu.chunk(2, dim=-1)
    h = torch._grouped_mm(F.silu(g) * u, w['down_t'], offs=offs)
    h = h * top.flatten()[order, None]
    y = torch.zeros_like(x)
    y.index_add_(0, order // s['k'], h)
    return y, idx


def timed(fn, min_ms=300, reps_max=200):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record(); fn(); end.record(); torch.cuda.synchronize()
    reps = max(5, min(reps_max, int(min_ms / max(start.elapsed_time(end), 1e-3))))
    times = []
    for _ in range(reps):
        start.record(); fn(); end.record(); torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True)
    ap.add_argument('--shapes', default='mixtral,olmoe')
    ap.add_argument('--tokens', default='16,512,4096')
    ap.add_argument('--variants', default='f32-loop,bf16-loop,bf16-grouped_mm')
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    variants = a.variants.split(',')
    results = []
    for key in a.shapes.split(','):
        s = SHAPES[key]
        w32 = weights(s)
        w16 = {k: v.to(torch.bfloat16) for k, v in w32.items()}
        # _grouped_mm takes [experts, K, N] right operands: the [experts, out, in] weights transposed (a view, K
        # contiguous), gate and up side by side in one product.
        w16['gate_up_t'] = torch.cat([w16['gate'], w16['up']], dim=1).transpose(1, 2)
        w16['down_t'] = w16['down'].transpose(1, 2)
        for T in map(int, a.tokens.split(',')):
            x32 = hash_tensor((T, s['d']), SALT['x'], math.sqrt(12))
            x16 = x32.to(torch.bfloat16)
            with torch.no_grad():
                y, idx = moe_loop(x32, w32, s)
                y.float().cpu().numpy().tofile(os.path.join(a.out, f'y_{key}_{T}.f32'))
                idx.to(torch.int32).cpu().numpy().tofile(os.path.join(a.out, f'experts_{key}_{T}.i32'))
                for v in variants:
                    fn = {'f32-loop': lambda: moe_loop(x32, w32, s), 'bf16-loop': lambda: moe_loop(x16, w16, s), 'bf16-grouped_mm': lambda: moe_grouped(x16, w16, s)}[v]
                    ms = timed(fn)
                    results.append(dict(shape=key, tokens=T, variant=v, ms=ms))
                    print(json.dumps(results[-1]), flush=True)
                # The bf16 variants against the f32 loop: both compute the same layer (they differ from f32 by bf16
                # rounding and by the tokens whose experts change when the router runs in bf16).
                yl, il = moe_loop(x16, w16, s)
                yg, _ = moe_grouped(x16, w16, s)
                same = (torch.sort(il, -1).values == torch.sort(idx, -1).values).all(-1).float().mean().item()
                rl = lambda a: ((a.float() - y).norm() / y.norm()).item()
                print(f'{key} T={T}: vs the f32 loop, rel L2 bf16 loop {rl(yl):.2e}, bf16 grouped_mm {rl(yg):.2e}; tokens with the same experts in bf16 {100 * same:.1f}%', flush=True)
        del w32, w16
        torch.cuda.empty_cache()
    machine = f'{torch.cuda.get_device_name()}, PyTorch {torch.__version__}, CUDA {torch.version.cuda}'
    with open(os.path.join(a.out, 'timings.json'), 'w') as f:
        json.dump(dict(machine=machine, results=results), f, indent=1)


if __name__ == '__main__':
    main()
