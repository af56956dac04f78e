# The DB-loss rows without a dataset: ResNet-50 + PFC neck, DistributionBalancedLoss with every part off (plain BCE,
# mean over B x C), the DB-loss schedule and mmpretrain's runtime. The bce_* configs add the dataset (num_classes,
# class_stats, map_mu); the other rows inherit those.
_base_ = ['../../_base_/models/resnet50_pfc_multilabel.py', 'mmpretrain::_base_/default_runtime.py']
model = dict(head=dict(loss=dict(type='DistributionBalancedLoss', reweight=None, focal=False, gamma=2.0,
                                 balance_param=2.0, map_alpha=0.1, map_beta=10.0, ntr_kappa=0.0, ntr_lambda=1.0)))

# DB-loss schedule (configs/{voc,coco}/LT_resnet50_pfc_DB.py of the official code, trained on 1 GPU x 32 images: its
# class-aware sampler exists only in the non-distributed loader): SGD lr 0.02 for a batch of 32, momentum 0.9,
# weight decay 1e-4, gradient clipping at 35, linear warm-up over 500 iterations from lr / 3, steps at epochs 5 and 7,
# 8 epochs.
max_epochs = 8
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4),
                     clip_grad=dict(max_norm=35, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=1.0 / 3, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', by_epoch=True, milestones=[5, 7], gamma=0.1),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=32)  # --auto-scale-lr: lr 0.02 x (GPUs x batch) / 32
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=max_epochs, max_keep_ckpts=1))
randomness = dict(seed=0, deterministic=False)
