# RIDE with distillation, a 3-expert ResNet-32 student distilled from the 6-expert teacher, CIFAR-100-LT (IF 100),
# 200 epochs: the official configs/config_imbalance_cifar100_distill_ride.json: RIDELossWithDistill with T 1.5, KD
# factor 1.0 (T^2-scaled KL to the teacher's ensemble, the whole loss counted K times), lambda -0.45, DRW from 160,
# 1 GPU x 128, SGD nesterov lr 0.1, wd 5e-4, warm-up 20 epochs (not 5), x0.01 at 160 and 180; the teacher in train
# mode without gradients. Train the teacher first (./ride-6e_resnet32_1xb128_cifar100-lt-if100_200e.py), then
# python tools/train.py THIS_CONFIG [--cfg-options model.teacher.checkpoint=PATH]
_base_ = './ride_resnet32_1xb128_cifar100-lt-if100_200e.py'
model = dict(
    type='RIDEClassifier',
    teacher=dict(config='configs/ride/ride-6e_resnet32_1xb128_cifar100-lt-if100_200e.py',
                 checkpoint='work_dirs/ride-6e_resnet32_1xb128_cifar100-lt-if100_200e/epoch_200.pth',
                 train_mode=True),
    head=dict(loss=dict(type='RIDEDistillLoss', distill_temperature=1.5, distill_factor=1.0)))
param_scheduler = [
    # official CustomLR warm-up lr * (e + 1) / 20 for epochs e = 0..19: LinearLR factors 0.05, 0.10, ..., 1.0
    dict(type='LinearLR', start_factor=0.05, end_factor=1.0, by_epoch=True, begin=0, end=20),
    dict(type='MultiStepLR', milestones=[160, 180], gamma=0.01, by_epoch=True, begin=0, end=200),
]
