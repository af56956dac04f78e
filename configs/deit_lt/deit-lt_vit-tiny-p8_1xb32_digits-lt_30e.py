# DeiT-LT on Digits-LT (CPU demo): a tiny distilled ViT (patch 8, 4 layers, 64 dims, 32 x 32 grey input) trained
# from scratch with CE on the CLS head and hard distillation through the DIST head from the LeNet-5 baseline
# (../baseline/lenet_1xb32_digits-lt_30e.py) on the mixup / cutmix batch; CB(0.9999) weights by the teacher's label
# from epoch 24 (the last fifth); alpha 0.5; AdamW (wd 0.05), label
# smoothing 0.1. Train the teacher first (python tools/train.py configs/baseline/lenet_1xb32_digits-lt_30e.py),
# then python tools/train.py THIS_CONFIG [--cfg-options model.teacher.checkpoint=PATH]
_base_ = ['../_base_/datasets/digits_lt.py', '../_base_/schedules/digits_lt_30e.py',
          '../_base_/default_runtime_cls.py']
model = dict(
    type='DeiTLTClassifier',
    teacher=dict(config='configs/baseline/lenet_1xb32_digits-lt_30e.py',
                 checkpoint='work_dirs/lenet_1xb32_digits-lt_30e/epoch_30.pth'),
    backbone=dict(type='DistilledVisionTransformer', arch=dict(embed_dims=64, num_layers=4, num_heads=4,
                                                               feedforward_channels=256),
                  img_size=32, patch_size=8, in_channels=1, drop_path_rate=0.1, out_type='cls_token'),
    neck=None,
    head=dict(type='DeiTLTClsHead', num_classes=10, in_channels=64,
              loss=dict(type='DeiTLTLoss', class_stats={{_base_.class_stats}}, alpha=0.5, drw_epoch=24, beta=0.9999),
              init_cfg=dict(type='TruncNormal', layer='Linear', std=0.02)),
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.8), dict(type='CutMix', alpha=1.0)]))
data_preprocessor = dict(num_classes=10, mean=[127.5], std=[127.5], to_rgb=False)
optim_wrapper = dict(_delete_=True, optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05, eps=1e-8),
                     paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, custom_keys={
                         '.cls_token': dict(decay_mult=0.0), '.dist_token': dict(decay_mult=0.0),
                         '.pos_embed': dict(decay_mult=0.0)}))
custom_hooks = [dict(type='LossEpochHook')]
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=10, max_keep_ckpts=1))
log_processor = dict(window_size=5)
