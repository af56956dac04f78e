# CC-SAM stage 2 on ResNet-50, ImageNet-LT (no official ImageNet-LT recipe): the stage-1 model is loaded and frozen
# (BatchNorm in train mode), its classifier trained alone with class-conditional adversarial features
# (CCSAMClsHead(stage=2), the official CIFAR-100 settings: div 2, adver_reg 1, up_limit 0.3 over 30 epochs) on
# class-aware batches (one image per class visit, N = 115,846 images an epoch), no mixup. 8 GPUs x 64, SGD momentum
# 0.9, weight decay 5e-4, 30 epochs (the official stage-2 length), lr by the official non-CIFAR branch of
# adjust_learning_rate: 0.1 x lr_max x (1 + cos(pi e / 30)), i.e. cosine from 0.2 x 0.2 = 0.04 to 0.
# Train stage 1 first (./stage1-ccsam_resnet50_8xb64_imagenet-lt_90e.py), then tools/dist_train.sh THIS_CONFIG 8
_base_ = ['./stage1-ccsam_resnet50_8xb64_imagenet-lt_90e.py', './_base_/ccsam_stage2.py']
load_from = 'work_dirs/stage1-ccsam_resnet50_8xb64_imagenet-lt_90e/epoch_90.pth'
model = dict(
    train_cfg=None,  # no mixup in stage 2
    head=dict(_delete_=True, type='CCSAMClsHead', num_classes=1000, in_channels=2048,
              class_stats={{_base_.class_stats}}, stage=2, adv_strength=1.0, weight_div=2.0, max_adv_ratio=0.3,
              adv_epochs=30, loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
train_dataloader = dict(sampler=dict(_delete_=True, type='ClassAwareSampler', num_samples_cls=1, num_samples='dataset'),
                        drop_last=False)
optim_wrapper = dict(optimizer=dict(lr=0.04))
max_epochs = 30
param_scheduler = dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0.0, by_epoch=True, begin=0,
                       end=max_epochs)
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
