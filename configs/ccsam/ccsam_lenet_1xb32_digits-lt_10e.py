# CC-SAM stage 2 on Digits-LT (CPU demo): the stage-1 LeNet-5 is loaded and frozen (it has no BatchNorm), its
# classifier trained alone with class-conditional adversarial features (CCSAMClsHead(stage=2), the official CIFAR-100
# settings: div 2, adver_reg 1, up_limit 0.3, the ramp over this stage's 10 epochs) on class-aware batches (one image
# per class visit, N = 347 images an epoch), no mixup; SGD momentum 0.9, weight decay 5e-4, constant lr 0.005 (0.1 x
# the stage-1 lr, as the official CIFAR branch).
# python tools/train.py ./stage1-ccsam_lenet_1xb32_digits-lt_30e.py; python tools/train.py THIS_CONFIG
_base_ = ['./stage1-ccsam_lenet_1xb32_digits-lt_30e.py', './_base_/ccsam_stage2.py']
load_from = 'work_dirs/stage1-ccsam_lenet_1xb32_digits-lt_30e/epoch_30.pth'
model = dict(
    train_cfg=None,  # no mixup in stage 2
    head=dict(_delete_=True, type='CCSAMClsHead', num_classes=10, in_channels=120, class_stats={{_base_.class_stats}},
              stage=2, adv_strength=1.0, weight_div=2.0, max_adv_ratio=0.3, adv_epochs=10,
              loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
train_dataloader = dict(sampler=dict(_delete_=True, type='ClassAwareSampler', num_samples_cls=1, num_samples='dataset'),
                        drop_last=False)
optim_wrapper = dict(optimizer=dict(lr=0.005))
param_scheduler = None  # constant lr
max_epochs = 10
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
