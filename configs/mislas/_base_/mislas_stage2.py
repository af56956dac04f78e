# MiSLAS stage 2's mechanics (dvlab-research/MiSLAS train_stage2.py): once the stage-1 checkpoint (load_from) is
# loaded, DecoupledStageHook freezes the backbone and neck and keeps their BatchNorm layers in train mode: the official
# `shift_bn: True` (label-aware BN shift: running mean / variance re-estimated, momentum 0.1, on the class-balanced
# stage-2 batches; the affine parameters frozen; evaluation uses the shifted statistics). bn_mode='eval' is the
# official `shift_bn: False` (CIFAR-10-LT). The stage-1 classifier is kept (reinit_head=False): LWSClsHead(
# train_fc=True) trains it, at lr_mult x lr, together with its per-class scales. The mislas_* configs inherit this
# beside their stage-1 config.
custom_hooks = [dict(type='DecoupledStageHook', frozen_modules=('backbone', 'neck'), bn_mode='train',
                     reinit_head=False)]
# DDP is built before the hook freezes the backbone
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
