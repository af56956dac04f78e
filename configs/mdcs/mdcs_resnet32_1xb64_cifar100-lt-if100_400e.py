# MDCS (Zhao et al., ICCV 2023), 3 experts, ResNet-32 on CIFAR-100-LT (imbalance factor 100), the official run
# (fistyee/MDCS configs/config_cifar100_ir100_mdcs.json, data_loader/cifar_data_loaders.py): n_gpu 1 x batch 64 images
# (128 rows per forward: the weak and the strong view of each), SGD nesterov lr 0.1, momentum 0.9, weight decay
# 5e-4, 400 epochs, CustomLR: linear warm-up over 20 epochs (factor (e + 1) / 20), x0.1 at 200, x0.01 at 320,
# x0.001 at 380. Weak view: crop 32 pad 4 + flip + RandomRotation(15); strong view: crop 32 pad 4 + flip + AutoAugment
# CIFAR10Policy + Cutout(1, 16) (../_base_/datasets/paco_augmentation.py cifar_regular_view).
# python tools/train.py THIS_CONFIG
_base_ = ['./_base_/mdcs_resnet32_cifar.py', '../_base_/datasets/cifar100_lt_two_view.py',
          '../_base_/schedules/cifar_lt_200e.py', '../_base_/default_runtime_cls.py',
          '../_base_/datasets/paco_augmentation.py']
model = dict(head=dict(num_classes={{_base_.num_classes}}, loss=dict(class_stats={{_base_.class_stats}})))
weak_view = [
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='NumpyToPIL', to_rgb=False),  # the archive is RGB already
    dict(type='torchvision/RandomRotation', degrees=15),
    dict(type='PILToNumpy', to_bgr=False),
]
train_pipeline = [dict(type='MultiView', num_views=[1, 1], transforms=[weak_view, {{_base_.cifar_regular_view}}]),
                  dict(type='PackInputs')]
train_dataloader = dict(batch_size=64, dataset=dict(pipeline=train_pipeline))
max_epochs = 400
optim_wrapper = dict(optimizer=dict(nesterov=True, weight_decay=5e-4))
param_scheduler = [
    # LinearLR over [begin, end) reaches end_factor at epoch end - 1: factors (e + 1) / 20, as CustomLR's warm-up
    dict(type='LinearLR', start_factor=0.05, end_factor=1.0, by_epoch=True, begin=0, end=20),
    dict(type='MultiStepLR', milestones=[200, 320, 380], gamma=0.1, by_epoch=True, begin=0, end=max_epochs),
]
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=64)
