#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Is it a leak or a cache? Run as root in the test VM with vhnet loaded:

    [DROP=0|1] [PLAIN=n] scripts/slab-drift.py [OWNED [ROUNDS]]

One warm-up round, then ROUNDS rounds (default 5) of PLAIN plain opens
(default 0) and OWNED owned instances (open, VHOST_SET_OWNER, close;
default 2000). After each round it waits for RCU, drops reclaimable slab
(DROP=1, the default) and prints the change of /proc/slabinfo's active
objects, in all and for the caches that moved most; at the end, objects
per owned instance. A leak grows every round by about a multiple of
OWNED; caches that refill and reclaim (dentry and inode of the debugfs
directories, radix_tree_node, task_struct freed after a grace period) go
up and down.
"""
import os, fcntl, time, sys
N=int(sys.argv[1]) if len(sys.argv)>1 else 2000
R=int(sys.argv[2]) if len(sys.argv)>2 else 5
PLAIN=int(os.environ.get('PLAIN','0'))
def slab():
    d={}
    for l in open('/proc/slabinfo'):
        if l.startswith(('slabinfo','#')): continue
        f=l.split(); d[f[0]]=int(f[1])
    return d
def cycles(n):
    for i in range(PLAIN):
        os.close(os.open('/dev/vhnet',os.O_RDWR))
    for i in range(n):
        fd=os.open('/dev/vhnet',os.O_RDWR)
        fcntl.ioctl(fd,0xAF01)
        os.close(fd)
DROP=os.environ.get('DROP','1')=='1'
def settle():
    time.sleep(3)
    if DROP: open('/proc/sys/vm/drop_caches','w').write('2')
    time.sleep(2)
cycles(N); settle()
prev=slab(); base=prev
for r in range(R):
    cycles(N); settle()
    cur=slab()
    tot=sum(cur.values())-sum(prev.values())
    big=sorted(((cur.get(k,0)-prev.get(k,0),k) for k in cur), reverse=True)
    print(f"round {r}: total {tot:+d}; top: "+", ".join(f"{k} {v:+d}" for v,k in big[:6] if v)+"; bottom: "+", ".join(f"{k} {v:+d}" for v,k in big[-4:] if v), flush=True)
    prev=cur
cur=slab()
big=sorted(((cur.get(k,0)-base.get(k,0),k) for k in cur), reverse=True)
print(f"per owned instance: {(sum(cur.values())-sum(base.values()))/(N*R):+.4f} objects; DROP={DROP} PLAIN={PLAIN}")
print("over all rounds: "+", ".join(f"{k} {v:+d}" for v,k in big[:10] if v))
