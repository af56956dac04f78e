# RIDE teacher for distillation, 6 experts, ResNeXt-50 (32x4d) on ImageNet-LT, the official 100-epoch recipe
# (frank-xwang/RIDE-LongTailRecognition configs/config_imagenet_lt_resnext50_ride.json with num_experts 6; its
# distill_arch): lambda -0.2, f 0.02, DRW from epoch 80, SGD nesterov lr 0.1 for batch 256 (8 x 32), wd 2e-4,
# warm-up 5, x0.1 at 60 and 80. tools/dist_train.sh THIS_CONFIG 8
_base_ = ['./_base_/ride_resnet50_imagenet-lt.py', '../_base_/schedules/ride_100e.py']
custom_hooks = [dict(type='LossEpochHook')]  # tells the loss the epoch (DRW)
model = dict(backbone=dict(type='RIDEResNeXt', groups=32, width_per_group=4, num_experts=6),
             head=dict(num_experts=6))
train_dataloader = dict(batch_size=32)
