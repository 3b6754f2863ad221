#!/usr/bin/env python3
"""PyTorch's math SDPA backward on the cases of BackwardNonFiniteTest (docs/SEMANTICS.md, "The
backward pass"): which rows of dQ and keys of dK, dV come out NaN. float64, B = 1, H = 2, N = 48.
Usage: venv/bin/python scripts/torch_backward_nonfinite.py
"""
import torch, torch.nn.functional as F
torch.manual_seed(0)
N=48
def run(name, poison, row, val, mask=None, causal=False):
    q=torch.randn(1,2,N,16,dtype=torch.float64); k=torch.randn(1,2,N,16,dtype=torch.float64); v=torch.randn(1,2,N,8,dtype=torch.float64); d=torch.randn(1,2,N,8,dtype=torch.float64)
    t={'q':q,'k':k,'v':v,'d':d}[poison]; t[:,:,row,0]=val
    for x in (q,k,v): x.requires_grad_(True)
    with torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.MATH):
        o=F.scaled_dot_product_attention(q,k,v,attn_mask=mask,is_causal=causal)
    o.backward(d)
    nr=lambda g: [i for i in range(N) if torch.isnan(g[0,0,i]).any()]
    rows=nr(q.grad); keys=nr(k.grad); vk=nr(v.grad)
    fmt=lambda l: f"{len(l)} ({l[0]}..{l[-1]})" if l else "0"
    print(f"{name:28s} dQ NaN rows {fmt(rows)}; dK NaN keys {fmt(keys)}; dV {fmt(vk)}")
run("q row 5, causal",'q',5,float('nan'),causal=True)
run("dO row 5, causal",'d',5,float('nan'),causal=True)
m=torch.ones(N,N,dtype=torch.bool); m[:,10]=False
run("k 10 hidden (bool)",'k',10,float('nan'),mask=m)
b=torch.zeros(N,N,dtype=torch.float64); b[:,10]=float('-inf')
run("v 10 hidden (float -inf)",'v',10,float('nan'),mask=b)
run("k 10 hidden (float -inf)",'k',10,float('nan'),mask=b)
run("k 30, causal",'k',30,float('nan'),causal=True)
