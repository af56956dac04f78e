# KCL stage 1 (Kang et al., ICLR 2021; bingykang/BalFeat README "lt_kcl6_e200" command and main_kcl.py): ResNet-50
# with KCL's projection (one Linear 2048 -> 128, the README passes no --mlp), a momentum key encoder (m 0.999) with
# shuffle-BN, a labelled queue of 65,536 keys, KCL's loss with k = 6 positives (the first 6 same-class queue slots,
# BalFeat's topk), T 0.07; SGD lr 0.1 (batch 256), momentum 0.9, weight decay 5e-4, cosine per epoch over 200 epochs;
# both views RandomResizedCrop 224 + flip (--slaug); before epoch 0 the queue is pre-filled with the keys of
# 65,536 / 256 = 256 batches (init_key_queue: no loss, no gradient, no momentum update). An online linear probe on the
# detached pooled feature is ltmm's monitor (it does not change the representation).
# Then ./kcl-linear_resnet50_4xb64_imagenet-lt_100e.py.
# tools/dist_train.sh THIS_CONFIG 4
_base_ = ['../_base_/datasets/imagenet_lt_two_view.py', '../_base_/default_runtime_cls.py']
model = dict(
    type='QueueContrastClassifier',
    backbone=dict(type='ResNet', depth=50, num_stages=4, out_indices=(3, ), style='pytorch'),
    neck=dict(type='LinearNeck', in_channels=2048, out_channels=128, norm_cfg=None),
    head=dict(type='LinearClsHead', num_classes={{_base_.num_classes}}, in_channels=2048),
    online_probe=True,
    contrast_loss=dict(type='KCLLoss', temperature=0.07, num_positives=6, sampling='first'),
    queue_size=65536,
    feat_dim=128,
    momentum=0.999)
view_pipeline = [
    dict(type='RandomResizedCrop', scale=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
]
# 4 GPUs x 64 = 256 (the README's total batch); the queue takes whole global batches, so the last partial one is
# dropped (as the official loader)
train_dataloader = dict(
    batch_size=64, drop_last=True,
    dataset=dict(pipeline=[dict(type='LoadImageFromFile'), dict(type='MultiView', num_views=2,
                                                                 transforms=[view_pipeline]), dict(type='PackInputs')]))
max_epochs = 200
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4))
param_scheduler = dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0.0, by_epoch=True, begin=0,
                       end=max_epochs)
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=256)
custom_hooks = [dict(type='QueuePrefillHook')]
