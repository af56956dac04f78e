# Runtime of the ltmm classification configs: mmpretrain's default runtime (default_scope='mmpretrain'), with
# checkpoints every 10 epochs (the last 3 kept, plus the best by mean per-class accuracy), logs every 50 iterations
# and a fixed seed. Classification configs inherit this or mmpretrain::_base_/default_runtime.py, never both.
_base_ = 'mmpretrain::_base_/default_runtime.py'
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3, save_best='shot/all', rule='greater'))
randomness = dict(seed=0, deterministic=False)
