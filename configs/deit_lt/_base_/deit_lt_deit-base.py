# DeiT-LT student and optimisation (val-iisc/DeiT-LT main.py / arguments.py / sh/train_*.sh): DeiT-B/16 distilled
# (embed 768, depth 12, heads 12, LayerNorm eps 1e-6), from scratch, drop path 0.1, 224 px; CLS + DIST heads, the
# prediction their average; timm batch Mixup 0.8 / CutMix 1.0 (switch 0.5); AdamW eps 1e-8, wd 0.05 without decay on
# biases, norms and the tokens; cosine with 5 warm-up epochs from 1e-6 down to 1e-5; gradients accumulated over 4
# iterations (the lr is scaled by GPUs x batch / 512 without the accumulation, as the official). The configs set
# model.teacher, head.num_classes, loss.drw_epoch, max_epochs and lr, and the pipelines (ImageNet-scale data:
# deit_train_pipeline / deit_test_pipeline below).
model = dict(
    type='DeiTLTClassifier',
    backbone=dict(type='DistilledVisionTransformer', arch='deit-base', img_size=224, patch_size=16,
                  drop_path_rate=0.1, out_type='cls_token'),
    neck=None,
    head=dict(type='DeiTLTClsHead', in_channels=768,
              loss=dict(type='DeiTLTLoss', alpha=0.5, beta=0.9999, label_smoothing=0.1)),
    init_cfg=[dict(type='TruncNormal', layer='Linear', std=0.02),
              dict(type='Constant', layer='LayerNorm', val=1.0, bias=0.0)],
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.8), dict(type='CutMix', alpha=1.0)]))
optim_wrapper = dict(
    type='AmpOptimWrapper', accumulative_counts=4,
    optimizer=dict(type='AdamW', lr=5e-4, weight_decay=0.05, eps=1e-8, betas=(0.9, 0.999)),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, custom_keys={
        '.cls_token': dict(decay_mult=0.0), '.dist_token': dict(decay_mult=0.0), '.pos_embed': dict(decay_mult=0.0)}))
custom_hooks = [dict(type='LossEpochHook')]  # the epoch to DeiTLTLoss (the DRW switch of the distillation weights)
# timm create_transform with DeiT's defaults (official datasets.py, ImageNet mean / std for every dataset): RRC 224
# bicubic, flip, RandAugment rand-m9-mstd0.5-inc1, RandomErasing p 0.25 (pixel mode: noise of the mean / std, here in
# mmcv's BGR order); test: resize 256 + center crop 224, bicubic. For data read with LoadImageFromFile.
deit_bgr_mean = [103.53, 116.28, 123.675]
deit_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandAugment', policies='timm_increasing', num_policies=2, total_level=10, magnitude_level=9,
         magnitude_std=0.5, hparams=dict(pad_val=[round(x) for x in deit_bgr_mean], interpolation='bicubic')),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand', min_area_ratio=0.02, max_area_ratio=1 / 3,
         fill_color=deit_bgr_mean, fill_std=[57.375, 57.12, 58.395]),
    dict(type='PackInputs'),
]
deit_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow', interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
